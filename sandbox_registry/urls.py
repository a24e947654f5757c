"""The sandbox registry's URLconf: served alone by `manage.py run_sandbox_registry`, never mounted
in the marketplace's URLs (the sandbox is another system the marketplace reaches over HTTP).

Each office sits under the prefix its base-URL setting names (`USPTO_ODP_BASE_URL` =
{SANDBOX_REGISTRY_URL}/uspto-odp, ...), followed by the office's own paths.
"""

from django.urls import path, re_path

from sandbox_registry import views

app_name = "sandbox_registry"

ODP = "uspto-odp/api/v1/patent/applications"
OPS = r"epo-ops/(?:3\.2/)?"

urlpatterns = [
    path(f"{ODP}/search", views.odp_search, name="odp_search"),
    re_path(
        rf"^{ODP}/(?P<number>.+?)/(?P<section>assignment|continuity|adjustment|transactions)$",
        views.odp_application,
        name="odp_section",
    ),
    re_path(rf"^{ODP}/(?P<number>.+)$", views.odp_application, name="odp_application"),
    re_path(
        r"^tsdr/ts/cd/casestatus/(?P<prefix>sn|rn)(?P<digits>\d{1,8})/info(?P<fmt>\.xml)?$",
        views.tsdr_status,
        name="tsdr_status",
    ),
    path("uspto-assignment/patent/lookup", views.assignment_lookup, name="assignment_lookup"),
    path("euipo/oidc/accessToken", views.euipo_token, name="euipo_token"),
    path("euipo/trademark-search/trademarks", views.euipo_trademarks, name="euipo_trademarks"),
    path("euipo/design-search/designs", views.euipo_designs, name="euipo_designs"),
    re_path(rf"^{OPS}auth/accesstoken$", views.epo_token, name="epo_token"),
    re_path(
        rf"^{OPS}rest-services/legal/publication/(?P<scheme>docdb|epodoc)/(?P<number>[^/]+)$",
        views.epo_legal,
        name="epo_legal",
    ),
]
