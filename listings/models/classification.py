"""The public classification tables: CPC symbols for patents, Nice classes and terms for trademarks.

They are reference data, loaded by `manage.py load_classification` (listings.classification) and
only read by the rest of the app: rights keep their symbols and class numbers, and take titles and
headings from here for search text and facets.
"""

from __future__ import annotations

from django.db import models


class CpcSymbol(models.Model):
    class Level(models.TextChoices):
        SECTION = "section", "Section"
        CLASS = "class", "Class"
        SUBCLASS = "subclass", "Subclass"
        GROUP = "group", "Main group"
        SUBGROUP = "subgroup", "Subgroup"

    # Normalised: no spaces, no leading zeros in the group ("G06N3/08"); see cpc_symbol_normalise.
    symbol = models.CharField(primary_key=True, max_length=20)
    level = models.CharField(max_length=8, choices=Level.choices)
    # The number of dots before a subgroup's title in the scheme (1 for G06N3/08 under G06N3/00);
    # 0 for every other level.
    depth = models.PositiveSmallIntegerField(default=0)
    title = models.TextField()
    # Deleting a symbol takes its subtree with it: titles without their context mean nothing.
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children", db_index=True
    )

    class Meta:
        verbose_name = "CPC symbol"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(level__in=["section", "class", "subclass", "group", "subgroup"]),
                name="cpc_symbol_level_valid",
            ),
            # A section has no parent; every other level has one, except where the table is the
            # project's shipped summary, whose subclasses may lack a loaded class: so only the
            # section rule is enforced here.
            models.CheckConstraint(
                condition=~models.Q(level="section") | models.Q(parent__isnull=True),
                name="cpc_symbol_section_has_no_parent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.symbol} {self.title[:60]}"


class NiceClass(models.Model):
    class Kind(models.TextChoices):
        GOODS = "goods", "Goods"
        SERVICES = "services", "Services"

    number = models.PositiveSmallIntegerField(primary_key=True)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    heading = models.TextField()
    note = models.TextField(blank=True)
    includes = models.JSONField(default=list, blank=True)
    excludes = models.JSONField(default=list, blank=True)
    edition = models.CharField(max_length=40, blank=True)  # e.g. "NCL 13-2026"

    class Meta:
        verbose_name = "Nice class"
        ordering = ["number"]
        constraints = [
            models.CheckConstraint(condition=models.Q(number__gte=1, number__lte=45), name="nice_class_number_1_45"),
            # Classes 1-34 are goods and 35-45 services, in every edition.
            models.CheckConstraint(
                condition=models.Q(number__lte=34, kind="goods") | models.Q(number__gte=35, kind="services"),
                name="nice_class_kind_matches_number",
            ),
        ]

    def __str__(self) -> str:
        return f"Class {self.number}"


class NiceTerm(models.Model):
    # The basic number (class + serial, "090001") is shared by synonyms, so it is not unique alone.
    basic_number = models.CharField(max_length=6, db_index=True)
    term = models.CharField(max_length=255)
    nice_class = models.ForeignKey(NiceClass, on_delete=models.CASCADE, related_name="terms")
    edition = models.CharField(max_length=40, blank=True)

    class Meta:
        verbose_name = "Nice term"
        constraints = [
            models.UniqueConstraint(fields=["basic_number", "term"], name="nice_term_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.basic_number} {self.term}"
