from django.urls import path

from dashboard import views, views_customers, views_programs, views_receipts

app_name = "dashboard"
urlpatterns = [
    path("", views.index, name="index"),
    path("programs/", views_programs.program_list, name="programs"),
    path("programs/new/", views_programs.program_create, name="program_create"),
    path("programs/<int:program_id>/", views_programs.program_edit, name="program_edit"),
    path(
        "programs/<int:program_id>/active/",
        views_programs.program_set_active,
        name="program_set_active",
    ),
    path("programs/<int:program_id>/join/", views_programs.program_share, name="program_share"),
    path(
        "programs/<int:program_id>/join/qr.png",
        views_programs.program_qr_png,
        name="program_qr_png",
    ),
    path(
        "programs/<int:program_id>/join/qr.svg",
        views_programs.program_qr_svg,
        name="program_qr_svg",
    ),
    path(
        "programs/<int:program_id>/join/poster/",
        views_programs.program_poster,
        name="program_poster",
    ),
    path("customers/", views_customers.customer_list, name="customers"),
    path("customers/export.csv", views_customers.customer_export, name="customers_csv"),
    path("customers/<int:customer_id>/", views_customers.customer_detail, name="customer_detail"),
    path(
        "customers/<int:customer_id>/cards/<int:card_id>/correct/",
        views_customers.card_correct,
        name="card_correct",
    ),
    path(
        "customers/<int:customer_id>/erase/", views_customers.customer_erase, name="customer_erase"
    ),
    path("receipt-codes/", views_receipts.receipt_batches, name="receipt_batches"),
    path("receipt-codes/<int:batch_id>/sheet/", views_receipts.receipt_sheet, name="receipt_sheet"),
    path("receipt-codes/<int:batch_id>/codes.csv", views_receipts.receipt_csv, name="receipt_csv"),
    path("team/", views.team, name="team"),
    path("team/<int:membership_id>/", views.membership_edit, name="membership_edit"),
    path("team/<int:membership_id>/remove/", views.membership_remove, name="membership_remove"),
    path("locations/", views.locations, name="locations"),
    path("api-keys/", views.api_keys, name="api_keys"),
    path("api-keys/<int:api_key_id>/revoke/", views.api_key_revoke, name="api_key_revoke"),
]
