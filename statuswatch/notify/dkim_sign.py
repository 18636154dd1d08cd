"""Optional DKIM signing of outgoing mail (the `dkim` extra: dkimpy)."""

from __future__ import annotations

# RFC 8058 asks that the signature cover both List-Unsubscribe headers, so that a one-click
# URL cannot be swapped in transit.
SIGNED_HEADERS = (
    b"from",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
    b"mime-version",
    b"content-type",
)


class DkimSigner:
    """Prepends a DKIM-Signature (rsa-sha256, relaxed/relaxed) to a flattened message."""

    def __init__(self, private_key_pem: str, selector: str, domain: str) -> None:
        import dkim  # optional: only needed when a key is configured

        self._sign = dkim.sign
        self.key = private_key_pem.encode()
        self.selector = selector.encode()
        self.domain = domain.encode()

    def sign(self, raw: bytes) -> bytes:
        """The message with its signature header first."""
        signature = self._sign(
            raw,
            self.selector,
            self.domain,
            self.key,
            canonicalize=(b"relaxed", b"relaxed"),
            include_headers=list(SIGNED_HEADERS),
        )
        return signature + raw
