from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from marketplace import health


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html")


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    problems = {
        "database": health.database_problem(),
        "redis": health.redis_problem(),
        "worker": health.worker_problem(),
    }
    body = {name: ("ok" if problem is None else problem) for name, problem in problems.items()}
    healthy = all(problem is None for problem in problems.values())
    body["status"] = "ok" if healthy else "unavailable"
    return JsonResponse(body, status=200 if healthy else 503)
