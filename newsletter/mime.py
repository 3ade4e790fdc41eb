"""A mailing's message serialised once, then for each recipient by filling in the bytes.

Building and serialising the message with Django's email classes for every recipient was
most of a message's cost to the worker (``make bench``): MIME objects, header folding and
the parts' transfer encoding, for a message in which only the address, the unsubscribe link
(in both parts and in ``List-Unsubscribe``), the date and the Message-ID differ.

``PreparedMessage`` serialises the message Django builds, once, with stand-ins for those,
and keeps it as pieces: bytes that are the same for every recipient, and the few that are
not, which it fills with the functions Django's own path uses: the header policy's folding
for the headers, the part's transfer encoding for each line that holds the link (both
8bit and quoted-printable encode line by line, so the other lines' bytes do not change).
The message is the bytes Django would send that recipient, apart from the MIME boundary,
the date and the Message-ID (``tests/newsletter/test_mime.py`` compares them).

The stand-in link has the length of the recipients' links, so the choice of transfer
encoding (quoted-printable for a line over 998 bytes) is theirs too. An address that is not
plain ASCII (Django encodes it), a link of another length or a part with a carriage return
has no prepared form: ``message_for`` returns None (the constructor raises ValueError for a
mailing) and the caller builds the message the ordinary way.
"""

import email.quoprimime
import re
from email.utils import formatdate, make_msgid

from django.conf import settings
from django.core.mail.message import DNS_NAME, sanitize_address

from .message import UNSUBSCRIBE_PLACEHOLDER, unsubscribe_url

STAND_IN_ADDRESS = "stand-in@prepared.invalid"
_PART_MARK = "@@prepared-part-{}@@"
_HEADER_MARK = "@@prepared-header@@"
_PER_RECIPIENT_HEADERS = ("To", "Date", "Message-ID", "List-Unsubscribe")
_LINE_BREAKS = re.compile(r"\r\n|\r|\n")


class PreparedMessage:
    """One mailing's message for every recipient whose link has ``link_length`` characters."""

    def __init__(self, mailing, build_message, *, token_length):
        """``build_message(mailing, address, token)``: the Django message for one recipient."""
        self.link_length = len(unsubscribe_url("x" * token_length))
        if "\r" in mailing.html or "\r" in mailing.text:
            raise ValueError("A carriage return in the parts: Django's line breaks would differ")
        message = build_message(mailing, STAND_IN_ADDRESS, "x" * token_length)
        self.from_address = sanitize_address(message.from_email, message.encoding or settings.DEFAULT_CHARSET)
        mime = message.message()
        self.policy = mime.policy.clone(linesep="\r\n")
        self.parts = []  # (transfer encoding, pieces): bytes, or a line holding the link
        bodies = {"text/plain": mailing.text, "text/html": mailing.html}
        for number, part in enumerate(mime.get_payload()):
            if part.get_content_type() not in bodies:
                raise ValueError(f"No prepared form for a part of {part.get_content_type()}")
            body = bodies[part.get_content_type()]
            self.parts.append(_pieces(body, part["Content-Transfer-Encoding"]))
            part.set_payload(_PART_MARK.format(number))  # keeps the part's headers as they are
        for name in _PER_RECIPIENT_HEADERS:
            mime.replace_header(name, _HEADER_MARK)
        serialised = mime.as_bytes(linesep="\r\n")
        if any(mime.get_boundary() in body for body in bodies.values()):
            raise ValueError("The message's parts hold its MIME boundary")
        # The fixed bytes between the pieces that change: headers first, then the parts.
        self.head = []
        stand_ins = {f"{name}: {_HEADER_MARK}".encode(): name for name in _PER_RECIPIENT_HEADERS}
        for line in serialised.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
            # Only the stand-in lines themselves: a subject that happens to end in the mark stays text.
            self.head.append(stand_ins.get(line, line + b"\r\n"))
        if sorted(piece for piece in self.head if isinstance(piece, str)) != sorted(_PER_RECIPIENT_HEADERS):
            raise ValueError("A per-recipient header was folded or repeated")
        rest = b"\r\n" + serialised.split(b"\r\n\r\n", 1)[1]
        self.between = re.split(rb"@@prepared-part-\d+@@", rest)

    def message_for(self, address, token):
        """The message's bytes for one recipient, or None when it has no prepared form."""
        link = unsubscribe_url(token)
        if len(link) != self.link_length or not address.isascii() or "\r" in address or "\n" in address:
            return None
        values = {
            "To": address,
            "Date": formatdate(localtime=settings.EMAIL_USE_LOCALTIME),
            "Message-ID": make_msgid(domain=DNS_NAME),
            "List-Unsubscribe": f"<{link}>",
        }
        fold = self.policy.fold_binary
        out = [piece if isinstance(piece, bytes) else fold(piece, values[piece]) for piece in self.head]
        for before, (encoding, pieces) in zip(self.between, self.parts, strict=False):
            out.append(before)
            for piece in pieces:
                out.append(
                    piece
                    if isinstance(piece, bytes)
                    else _encode(piece.replace(UNSUBSCRIBE_PLACEHOLDER, link), encoding)
                )
        out.append(self.between[-1])
        return b"".join(out)


def _pieces(body, encoding):
    """The part's body as encoded bytes, and, as text, each line that holds the link."""
    pieces, fixed = [], []
    for line in _lines(body):
        if UNSUBSCRIBE_PLACEHOLDER in line:
            if fixed:
                pieces.append(_encode("".join(fixed), encoding))
                fixed = []
            pieces.append(line)
        else:
            fixed.append(line)
    if fixed:
        pieces.append(_encode("".join(fixed), encoding))
    return encoding, pieces


def _lines(body):
    """Lines as the encoders see them: split after each newline only."""
    return [line for line in re.split(r"(?<=\n)", body) if line]


def _encode(text, encoding):
    """``text`` (whole lines) as the generator writes it in a part of that transfer encoding."""
    if encoding == "quoted-printable":
        text = email.quoprimime.body_encode(text.encode().decode("latin-1"))
    elif encoding not in ("7bit", "8bit"):
        raise ValueError(f"No prepared form for a part in {encoding}")
    return _LINE_BREAKS.sub("\r\n", text).encode("utf-8", "surrogateescape")
