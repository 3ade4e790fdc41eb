from django.contrib import admin
from django.urls import path

from . import pdf_views, views

admin.site.site_header = "Engineering @ Scale"
admin.site.site_title = "Engineering @ Scale CMS"
admin.site.index_title = "Newsroom"

urlpatterns = [
    path("", views.home, name="home"),
    path("issues/<slug:slug>/", views.issue_detail, name="issue_detail"),
    path("issues/<slug:slug>.pdf", pdf_views.issue_pdf, name="issue_pdf"),
    path("companies/<slug:slug>/", views.company_detail, name="company_detail"),
    path("themes/<slug:slug>/", views.theme_detail, name="theme_detail"),
    path("admin/", admin.site.urls),
]
