"""MongoEngine's plain field types and errors, re-exported unchanged by both APIs.

These hold values inside the document and need no I/O of their own, so one set
serves the async and the sync API alike. Fields that query the database
(references, sequences) are not among them; the rules a reference applies on delete
(``CASCADE``, ``NULLIFY``, ``PULL``, ``DENY``, ``DO_NOTHING``) are.
"""

from mongoengine import DynamicEmbeddedDocument, EmbeddedDocument
from mongoengine.errors import (
    DoesNotExist,
    MultipleObjectsReturned,
    NotUniqueError,
    OperationError,
    ValidationError,
)
from mongoengine.fields import (
    BinaryField,
    BooleanField,
    ComplexDateTimeField,
    DateField,
    DateTimeField,
    Decimal128Field,
    DecimalField,
    DictField,
    DynamicField,
    EmailField,
    EmbeddedDocumentField,
    EmbeddedDocumentListField,
    EnumField,
    FloatField,
    GeoPointField,
    IntField,
    ListField,
    LongField,
    MapField,
    ObjectIdField,
    PointField,
    SortedListField,
    StringField,
    URLField,
    UUIDField,
)
from mongoengine.queryset import CASCADE, DENY, DO_NOTHING, NULLIFY, PULL

__all__ = [
    "CASCADE",
    "DENY",
    "DO_NOTHING",
    "NULLIFY",
    "PULL",
    "BinaryField",
    "BooleanField",
    "ComplexDateTimeField",
    "DateField",
    "DateTimeField",
    "Decimal128Field",
    "DecimalField",
    "DictField",
    "DoesNotExist",
    "DynamicEmbeddedDocument",
    "DynamicField",
    "EmailField",
    "EmbeddedDocument",
    "EmbeddedDocumentField",
    "EmbeddedDocumentListField",
    "EnumField",
    "FloatField",
    "GeoPointField",
    "IntField",
    "ListField",
    "LongField",
    "MapField",
    "MultipleObjectsReturned",
    "NotUniqueError",
    "ObjectIdField",
    "OperationError",
    "PointField",
    "SortedListField",
    "StringField",
    "URLField",
    "UUIDField",
    "ValidationError",
]
