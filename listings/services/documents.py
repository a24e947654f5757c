"""Listing documents: checked by their content, never by their name."""

from __future__ import annotations

import hashlib
from typing import IO

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction

from accounts.models import User
from listings.models import (
    Listing,
    ListingDocument,
)
from listings.services.common import ListingError

# --- Documents --------------------------------------------------------------------------------

# Recognised by their first bytes; the name and the browser's stated type are not trusted.
_SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)


def sniff_content_type(head: bytes) -> str | None:
    for signature, content_type in _SIGNATURES:
        if head.startswith(signature):
            return content_type
    return None


@transaction.atomic
def listing_document_add(
    *, listing: Listing, acting_user: User, upload: IO[bytes], original_name: str, visibility: str
) -> ListingDocument:
    if listing.seller_id != acting_user.pk:
        raise ListingError("Only the seller can add documents to this listing.")
    if visibility not in ListingDocument.Visibility.values:
        raise ListingError("Choose whether the document is public or in the data room.", field="visibility")
    limit = settings.LISTING_DOCUMENT_MAX_BYTES
    content = upload.read(limit + 1)
    if not content:
        raise ListingError("The file is empty.", field="file")
    if len(content) > limit:
        raise ListingError(f"The file is larger than {limit // (1024 * 1024)} MB.", field="file")
    content_type = sniff_content_type(content[:16])
    if content_type is None:
        raise ListingError(
            f"“{original_name}” is not a PDF, PNG or JPEG file (judged by its content, not its name).", field="file"
        )
    document = ListingDocument(
        listing=listing,
        original_name=original_name[:255],
        content_type=content_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        visibility=visibility,
    )
    document.file.save("upload", ContentFile(content), save=False)
    document.save()
    return document
