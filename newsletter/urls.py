from django.urls import path

from . import views

app_name = "newsletter"

urlpatterns = [
    path("subscribe/", views.subscribe, name="subscribe"),
    path("subscribe/confirm/<str:token>/", views.confirm, name="confirm"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("unsubscribe/<str:token>/resubscribe/", views.resubscribe, name="resubscribe"),
    path("unsubscribe/<str:token>/data/", views.request_data, name="request_data"),
    path("unsubscribe/<str:token>/erase/", views.erase, name="erase"),
]
