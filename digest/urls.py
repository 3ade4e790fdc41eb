from django.contrib import admin
from django.urls import path

from . import pdf_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("issues/<slug:slug>/", views.issue_detail, name="issue_detail"),
    path("issues/<slug:slug>.pdf", pdf_views.issue_pdf, name="issue_pdf"),
    path("companies/<slug:slug>/", views.company_detail, name="company_detail"),
    path("themes/<slug:slug>/", views.theme_detail, name="theme_detail"),
    path("preview/<str:token>/", views.issue_share_preview, name="issue_share_preview"),
    path("admin/", admin.site.urls),
]
