from django.urls import path

from dashboard import (
    views,
    views_analytics,
    views_campaigns,
    views_customers,
    views_pools,
    views_programs,
    views_receipts,
    views_vouchers,
    views_webhooks,
)

app_name = "dashboard"
urlpatterns = [
    path("", views.index, name="index"),
    path("programs/", views_programs.program_list, name="programs"),
    path("programs/new/", views_programs.program_create, name="program_create"),
    path("programs/<int:program_id>/", views_programs.program_edit, name="program_edit"),
    path(
        "programs/<int:program_id>/wallet-update.json",
        views_programs.program_wallet_update,
        name="program_wallet_update",
    ),
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
    # Smart Vouchers: rewards and their triggers, issued vouchers, code pools, campaigns.
    path("rewards/", views_vouchers.reward_list, name="rewards"),
    path("rewards/new/", views_vouchers.reward_create, name="reward_create"),
    path("rewards/<int:template_id>/", views_vouchers.reward_edit, name="reward_edit"),
    path(
        "rewards/<int:template_id>/triggers/",
        views_vouchers.trigger_add,
        name="trigger_add",
    ),
    path(
        "rewards/<int:template_id>/triggers/<int:trigger_id>/active/",
        views_vouchers.trigger_toggle,
        name="trigger_set_active",
    ),
    path("vouchers/", views_vouchers.voucher_list, name="vouchers"),
    path("vouchers/<int:voucher_id>/void/", views_vouchers.voucher_void, name="voucher_void"),
    path("code-pools/", views_pools.pool_list, name="pools"),
    path("code-pools/<int:pool_id>/", views_pools.pool_detail, name="pool_detail"),
    path(
        "code-pools/imports/<int:import_id>/",
        views_pools.code_import_page,
        name="code_import",
    ),
    path(
        "code-pools/imports/<int:import_id>/confirm/",
        views_pools.code_import_confirm,
        name="code_import_confirm",
    ),
    path(
        "code-pools/imports/<int:import_id>/progress.json",
        views_pools.code_import_progress,
        name="code_import_progress",
    ),
    path("campaigns/", views_campaigns.campaign_list, name="campaigns"),
    path("campaigns/new/", views_campaigns.campaign_create, name="campaign_create"),
    path(
        "campaigns/segment-count.json",
        views_campaigns.campaign_segment_count,
        name="campaign_segment_count",
    ),
    path(
        "campaigns/<int:campaign_id>/",
        views_campaigns.campaign_detail,
        name="campaign_detail",
    ),
    path(
        "campaigns/<int:campaign_id>/progress.json",
        views_campaigns.campaign_progress,
        name="campaign_progress",
    ),
    path("analytics/", views_analytics.analytics, name="analytics"),
    path("webhooks/", views_webhooks.webhook_list, name="webhooks"),
    path(
        "webhooks/<int:endpoint_id>/toggle/", views_webhooks.webhook_toggle, name="webhook_toggle"
    ),
]
