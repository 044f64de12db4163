from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.static import serve
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config import api_router
from tenants import views as tenant_views

urlpatterns = [
    path("", tenant_views.home, name="home"),
    path("", include("tenants.urls")),
    path("", include("loyalty.public_urls")),
    path("", include("vouchers.public_urls")),
    path("", include("redemption.public_urls")),
    path("", include("wallet.urls")),
    path("dashboard/", include("dashboard.urls")),
    path("staff/", include("loyalty.staff_urls")),
    path("staff/vouchers/", include("redemption.staff_urls")),
    path("api/v1/", include(api_router.urlpatterns)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api_schema"), name="api_docs"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("media/<path:path>", serve, {"document_root": settings.MEDIA_ROOT}, name="media"),
]
