"""Contacts (SPEC 2.4): the bodies of `POST` and `PATCH /contacts`, and the contact as answered.

The field list lives in `ContactFields` only; the create and patch bodies differ just in how
`contactType` behaves, and the answer adds the id and timestamps. E-mail and phone are validated and
normalised while parsing, with the same helpers that resolve order match keys, so a stored key and
a key looked up or sent in an order always compare equal.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Annotated

from pydantic import AfterValidator, Field, field_serializer, field_validator
from pydantic_core import PydanticCustomError

from schemas.common import EngageModel, ResponseModel, utc_iso
from storage.contacts import (
    InvalidEmailAddress,
    InvalidPhoneNumber,
    normalize_phone,
    validated_email,
)

if TYPE_CHECKING:
    from storage.models import Contact

DEFAULT_CONTACT_TYPE = "Member"
INVALID_EMAIL_MESSAGE = "Not a valid e-mail address."
INVALID_PHONE_MESSAGE = "Not a valid phone number in international format, e.g. +46701234567."


def has_control_characters(value: str) -> bool:
    """True if `value` holds C0 control characters or DEL.

    They have no place in names, addresses or keys, and PostgreSQL cannot store NUL at all: without
    this check such input would end in a server error instead of a 400.
    """
    return any(ord(char) < 0x20 or ord(char) == 0x7F for char in value)


def _plain_text(value: str) -> str:
    if has_control_characters(value):
        raise PydanticCustomError("InvalidCharacter", "Control characters are not allowed.")
    return value


def _key_text(value: str) -> str:
    """Keys are compared exactly, so surrounding blanks (a common copy-paste slip) are removed."""
    value = _plain_text(value).strip()
    if not value:
        raise PydanticCustomError("TooShort", "A key must not be empty.")
    return value


def _email(value: str) -> str:
    try:
        return validated_email(value)
    except InvalidEmailAddress:
        raise PydanticCustomError("InvalidEmailAddress", INVALID_EMAIL_MESSAGE) from None


def _mobile_phone(value: str) -> str:
    try:
        return normalize_phone(value)
    except InvalidPhoneNumber:
        raise PydanticCustomError("InvalidPhoneNumber", INVALID_PHONE_MESSAGE) from None


def _not_in_future(value: date) -> date:
    # One day of slack: "today" differs across time zones.
    if value > date.today() + timedelta(days=1):
        raise PydanticCustomError("OutOfRange", "A birthday cannot be in the future.")
    return value


# Lengths follow the contacts table's columns: nothing accepted here is refused by the database.
Text255 = Annotated[str, Field(max_length=255), AfterValidator(_plain_text)]
Text32 = Annotated[str, Field(max_length=32), AfterValidator(_plain_text)]
ContactType = Annotated[str, Field(min_length=1, max_length=32), AfterValidator(_plain_text)]
Key255 = Annotated[str, Field(max_length=255), AfterValidator(_key_text)]
Key64 = Annotated[str, Field(max_length=64), AfterValidator(_key_text)]
EmailAddress = Annotated[
    str, Field(max_length=255, examples=["anna.svensson@example.com"]), AfterValidator(_email)
]
MobilePhone = Annotated[
    str, Field(max_length=64, examples=["+46701234567"]), AfterValidator(_mobile_phone)
]
CountryCode = Annotated[
    str, Field(pattern=r"^[A-Za-z]{2}$", examples=["SE"]), AfterValidator(str.upper)
]
BirthDay = Annotated[date, Field(examples=["1985-04-12"]), AfterValidator(_not_in_future)]


class ContactFields(EngageModel):
    """Every field of a contact an integrator writes; all optional. Column names = field names."""

    contact_type: ContactType | None = None
    first_name: Text255 | None = None
    last_name: Text255 | None = None
    email: EmailAddress | None = None
    mobile_phone: MobilePhone | None = None
    external_id: Key255 | None = None
    member_number: Key255 | None = None
    social_security_number: Key64 | None = None
    street: Text255 | None = None
    zip_code: Text32 | None = None
    city: Text255 | None = None
    country: Text255 | None = None
    country_code: CountryCode | None = None
    birth_day: BirthDay | None = None
    gender: Text32 | None = None


def field_path(column: str) -> str:
    """The JSON pointer of a contact field in a body, e.g. `mobile_phone` → `/mobilePhone`."""
    alias = ContactFields.model_fields[column].alias
    return f"/{alias or column}"


class NewContact(ContactFields):
    """Body of `POST /contacts`."""

    contact_type: ContactType = DEFAULT_CONTACT_TYPE


class ContactPatch(ContactFields):
    """Body of `PATCH /contacts/{id}` (JSON merge patch): a field sent is set, `null` clears it,
    a field left out is kept. Which fields were sent is `model_fields_set`."""

    @field_validator("contact_type")
    @classmethod
    def _contact_type_not_cleared(cls, value: str | None) -> str | None:
        # Only runs for a value actually sent, so this rejects an explicit null.
        if value is None:
            raise PydanticCustomError("NotNullable", "contactType cannot be cleared.")
        return value

    def changes(self) -> dict[str, object]:
        """Column → new value, for the fields the client sent."""
        return self.model_dump(include=self.model_fields_set, by_alias=False)


class ContactId(ResponseModel):
    """The body of `POST /contacts` (201) and of the lookup `GET /contacts/id` (200)."""

    contact_id: str


class ContactOut(ResponseModel):
    """A contact as `GET` and `PATCH /contacts/{id}` answer it; every field, null when unset."""

    contact_id: str
    contact_type: str
    first_name: str | None
    last_name: str | None
    email: str | None
    mobile_phone: str | None
    external_id: str | None
    member_number: str | None
    social_security_number: str | None
    street: str | None
    zip_code: str | None
    city: str | None
    country: str | None
    country_code: str | None
    birth_day: date | None
    gender: str | None
    created_at: datetime
    updated_at: datetime

    @field_serializer("created_at", "updated_at")
    def _timestamp(self, value: datetime) -> str:
        return utc_iso(value)

    @classmethod
    def of(cls, contact: Contact) -> ContactOut:
        """The stored contact as the API shows it; `GET /contacts/{id}` and the personal data
        extract both use this, so an extract holds exactly the fields the API serves."""
        fields = {name: getattr(contact, name) for name in cls.model_fields if name != "contact_id"}
        return cls(contact_id=contact.id, **fields)
