from celery import shared_task

from listings.following import alerts_send


@shared_task(name="listings.alerts_send")
def alerts_send_task() -> dict[str, int]:
    report = alerts_send()
    return {"emails": report.emails, "listings": report.listings}
