"""Portfolio imports: a seller's CSV upload, turned into draft listings by a background job.

The job row is the progress the seller watches and the record staff read when it failed; the
rows the importer refused are kept with their original columns and the reason, so the seller
can download them, correct them and upload them again.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone


class ImportJobState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class ImportLayout(models.TextChoices):
    TEMPLATE = "template", "Portfolio template"
    NASA = "nasa", "NASA technology portfolio export"
    PATENTSVIEW = "patentsview", "PatentsView export"
    GOOGLE_PATENTS = "google_patents", "Google Patents search export"


def import_file_path(job: ImportJob, filename: str) -> str:
    # The stored name is ours; the uploader's file name is kept as data only.
    return f"imports/{job.seller_id}/{timezone.now():%Y%m%d%H%M%S}-{job.sha256[:16]}.csv"


class ImportJob(models.Model):
    seller = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="import_jobs")
    state = models.CharField(max_length=16, choices=ImportJobState.choices, default=ImportJobState.QUEUED)
    layout = models.CharField(max_length=16, choices=ImportLayout.choices)
    original_name = models.CharField(max_length=255)
    file = models.FileField(upload_to=import_file_path)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    # The header as uploaded: the rejected rows go back to the seller with these columns.
    columns = ArrayField(models.CharField(max_length=200), default=list)

    total_rows = models.PositiveIntegerField(help_text="Data rows in the file, counted when it was uploaded.")
    processed_rows = models.PositiveIntegerField(default=0, help_text="Rows read and committed so far.")
    created_count = models.PositiveIntegerField(default=0, help_text="Draft listings created.")
    rejected_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(
        default=0, help_text="Rows naming a right the seller already offers in another listing."
    )
    error = models.TextField(blank=True, help_text="Why the job failed, if it did.")

    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["seller", "-created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(processed_rows__lte=models.F("total_rows")), name="import_processed_within_total"
            ),
            models.CheckConstraint(
                condition=models.Q(
                    processed_rows__gte=models.F("created_count")
                    + models.F("rejected_count")
                    + models.F("skipped_count")
                ),
                name="import_outcomes_within_processed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.get_state_display()})"

    @property
    def is_finished(self) -> bool:
        return self.state in {ImportJobState.DONE, ImportJobState.FAILED}

    @property
    def percent(self) -> int:
        if self.state == ImportJobState.DONE or not self.total_rows:
            return 100 if self.state == ImportJobState.DONE else 0
        return min(100, self.processed_rows * 100 // self.total_rows)


class ImportRejection(models.Model):
    """One refused row: its line in the file, its original columns and the reason."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="rejections")
    line = models.PositiveIntegerField(help_text="The row's line in the uploaded file (the header is line 1).")
    reason = models.TextField()
    raw = models.JSONField(default=dict)

    class Meta:
        ordering = ["line", "id"]

    def __str__(self) -> str:
        return f"{self.job_id}: line {self.line}"
