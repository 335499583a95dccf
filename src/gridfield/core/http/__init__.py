"""Serving a stored file over HTTP, sans I/O: ranges, preconditions, validators, headers and
the response plan every web adapter (``gridfield.web``) follows, and signed URLs."""

from .conditions import Headers, if_range_holds, precondition_status
from .options import LOOKUPS, NO_ID, ServeOptions, check_lookup, serve_options
from .plan import Decision, Part, ResponsePlan, decide, not_found, plan_response
from .ranges import (
    MAX_RANGES,
    READ_STEP,
    ByteSpan,
    RangeRequest,
    parse_range,
    read_steps,
)
from .representation import (
    FALLBACK_CONTENT_TYPE,
    content_disposition,
    download_asked,
    stored_content_type,
)
from .signing import FileRef, RequestUrl, SignatureCheck, SigningKey, UrlSigning, forbidden
from .target import Target, bucket_target, must_sniff, object_id_or_none, plain_get
from .validators import (
    entity_tag,
    format_http_date,
    last_modified,
    parse_entity_tags,
    parse_http_date,
)

__all__ = [
    "FALLBACK_CONTENT_TYPE",
    "LOOKUPS",
    "MAX_RANGES",
    "NO_ID",
    "READ_STEP",
    "ByteSpan",
    "Decision",
    "FileRef",
    "Headers",
    "Part",
    "RangeRequest",
    "RequestUrl",
    "ResponsePlan",
    "ServeOptions",
    "SignatureCheck",
    "SigningKey",
    "Target",
    "UrlSigning",
    "bucket_target",
    "check_lookup",
    "content_disposition",
    "decide",
    "download_asked",
    "entity_tag",
    "forbidden",
    "format_http_date",
    "if_range_holds",
    "last_modified",
    "must_sniff",
    "not_found",
    "object_id_or_none",
    "parse_entity_tags",
    "parse_http_date",
    "parse_range",
    "plain_get",
    "plan_response",
    "precondition_status",
    "read_steps",
    "serve_options",
    "stored_content_type",
]
