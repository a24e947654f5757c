"""Verification runs: one right checked against its register, with the evidence kept.

A run holds the register's raw answers byte for byte (with their hash and the time they were
read), one outcome per check, and, where staff decide, the decision and its reason. Rows are
never edited after the run finishes, except to attach a staff decision.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from listings.models import Listing, Right


class Trigger(models.TextChoices):
    SUBMISSION = "submission", "Listing submitted"
    PERIODIC = "periodic", "Periodic re-check"
    BEFORE_RELEASE = "before_release", "Before release of escrowed funds"
    STAFF = "staff", "On demand by staff"


class RunState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    PASSED = "passed", "Passed"
    WARNING = "warning", "Passed with warnings"
    FAILED = "failed", "Failed"
    NEEDS_REVIEW = "needs_review", "Needs review"


ACTIVE_STATES = (RunState.QUEUED, RunState.RUNNING)
FINISHED_STATES = (RunState.PASSED, RunState.WARNING, RunState.FAILED, RunState.NEEDS_REVIEW)
# What staff look at: runs nobody could decide automatically, and passes with a caveat.
REVIEW_STATES = (RunState.NEEDS_REVIEW, RunState.WARNING)


class VerificationRun(models.Model):
    right = models.ForeignKey(Right, on_delete=models.PROTECT, related_name="verification_runs")
    listing = models.ForeignKey(
        Listing, on_delete=models.SET_NULL, null=True, blank=True, related_name="verification_runs"
    )
    trigger = models.CharField(max_length=16, choices=Trigger.choices)
    state = models.CharField(max_length=16, choices=RunState.choices, default=RunState.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The name the owner of record was compared with (the seller's legal name at the time).
    seller_name = models.CharField(max_length=300, blank=True)
    register = models.CharField(max_length=120, blank=True, help_text="The register read, e.g. USPTO TSDR.")
    # The register's facts as read (see services.reading.facts_as_dict) and the listing's claims,
    # shown side by side to reviewers.
    facts = models.JSONField(default=dict, blank=True)
    claims = models.JSONField(default=dict, blank=True)
    summary = models.TextField(blank=True)
    error = models.TextField(blank=True, help_text="Why the register could not give a usable answer.")
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        permissions = [("decide_verificationrun", "Can approve or reject a verification run")]
        constraints = [
            # One run at a time per right, listing and trigger: a retried or doubly enqueued
            # task finds the active run instead of starting a second.
            models.UniqueConstraint(
                fields=["right", "listing", "trigger"],
                condition=Q(state__in=["queued", "running"]),
                name="verification_one_active_run",
                nulls_distinct=False,
            ),
            models.CheckConstraint(
                condition=Q(finished_at__isnull=True) | Q(state__in=["passed", "warning", "failed", "needs_review"]),
                name="verification_finished_has_verdict",
            ),
        ]
        indexes = [models.Index(fields=["state", "created_at"]), models.Index(fields=["right", "-created_at"])]

    def __str__(self) -> str:
        return f"Run {self.pk}: {self.right.number_display} ({self.get_trigger_display()}) {self.get_state_display()}"

    @property
    def is_finished(self) -> bool:
        return self.state in FINISHED_STATES


class CheckOutcome(models.Model):
    class Outcome(models.TextChoices):
        PASS = "pass", "Pass"
        WARN = "warn", "Warning"
        REVIEW = "review", "Review"
        FAIL = "fail", "Fail"

    run = models.ForeignKey(VerificationRun, on_delete=models.CASCADE, related_name="checks")
    name = models.CharField(max_length=32)
    outcome = models.CharField(max_length=8, choices=Outcome.choices)
    evidence = models.TextField()
    score = models.FloatField(null=True, blank=True, help_text="Owner-name similarity, 0 to 1.")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["run", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["run", "name"], name="verification_check_once_per_run")]

    def __str__(self) -> str:
        return f"{self.name}: {self.outcome}"


class RegistryEvidence(models.Model):
    """One raw answer of a register, as received."""

    run = models.ForeignKey(VerificationRun, on_delete=models.CASCADE, related_name="evidence")
    office = models.CharField(max_length=32)
    url = models.URLField(max_length=2000)
    status = models.PositiveSmallIntegerField()
    content_type = models.CharField(max_length=100, blank=True)
    body = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    read_at = models.DateTimeField()

    class Meta:
        ordering = ["run", "read_at", "id"]
        verbose_name_plural = "registry evidence"

    def __str__(self) -> str:
        return f"{self.office} {self.sha256[:12]} at {self.read_at:%Y-%m-%d %H:%M}"


class ReviewDecision(models.Model):
    """A reviewer's decision on a run: the audit row of who decided what, when and why."""

    class Decision(models.TextChoices):
        APPROVE = "approve", "Approve"
        REJECT = "reject", "Reject"

    run = models.OneToOneField(VerificationRun, on_delete=models.PROTECT, related_name="decision")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decision = models.CharField(max_length=8, choices=Decision.choices)
    reason = models.TextField()
    decided_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-decided_at"]
        constraints = [models.CheckConstraint(condition=~Q(reason=""), name="verification_decision_has_reason")]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} run {self.run_id}"


class Notification(models.Model):
    """An alert shown on the site (and sent by email): a change found by a re-check, a deadline."""

    class Kind(models.TextChoices):
        STATUS_CHANGED = "status_changed", "Status changed"
        ASSIGNMENT_RECORDED = "assignment_recorded", "Assignment recorded"
        ENCUMBRANCE_RECORDED = "encumbrance_recorded", "Security interest or licence recorded"
        LISTING_SUSPENDED = "listing_suspended", "Listing suspended"
        DEADLINE = "deadline", "Deadline approaching"
        VERIFIED = "verified", "Verification finished"
        # Negotiations and deals (sent by escrow, which sits above us and uses this model).
        OFFER_RECEIVED = "offer_received", "Offer received"
        OFFER_COUNTERED = "offer_countered", "Offer countered"
        OFFER_ACCEPTED = "offer_accepted", "Offer accepted"
        OFFER_REJECTED = "offer_rejected", "Offer rejected"
        OFFER_WITHDRAWN = "offer_withdrawn", "Offer withdrawn"
        OFFER_EXPIRED = "offer_expired", "Offer expired"
        DEAL_CREATED = "deal_created", "Deal agreed"
        DEAL_FUNDED = "deal_funded", "Deal funded"
        DEAL_IN_TRANSFER = "deal_in_transfer", "Transfer started"
        DEAL_RECORDED = "deal_recorded", "Transfer recorded"
        DEAL_RELEASED = "deal_released", "Escrow released to the seller"
        DEAL_REFUNDED = "deal_refunded", "Escrow refunded to the buyer"
        DEAL_CANCELLED = "deal_cancelled", "Deal cancelled"
        DISPUTE_OPENED = "dispute_opened", "Dispute opened"
        DISPUTE_DECIDED = "dispute_decided", "Dispute decided"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True)
    right = models.ForeignKey(Right, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    # Makes an alert idempotent: the same deadline warning or change is announced once per user.
    dedupe_key = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "dedupe_key"], name="notification_once")]

    def __str__(self) -> str:
        return self.title
