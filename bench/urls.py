"""The site's URLs plus /bench/trivial/: the cheapest response Django can give through the same
middleware, the yardstick for the results page's throughput."""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def trivial(request: HttpRequest) -> HttpResponse:
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [
    path("bench/trivial/", trivial),
    path("", include("marketplace.urls")),
]
