from celery import shared_task

from listings.following import alerts_send
from listings.portfolio import portfolio_import_run


@shared_task(name="listings.alerts_send")
def alerts_send_task() -> dict[str, int]:
    report = alerts_send()
    return {"emails": report.emails, "listings": report.listings}


@shared_task(name="listings.portfolio_import_run")
def portfolio_import_run_task(job_id: int) -> None:
    portfolio_import_run(job_id=job_id)
