"""US (NANP) phone numbers: Text Request keys contacts by 10 digits."""

import phonenumbers


class InvalidPhoneNumber(ValueError):
    pass


def normalize_phone(value: str) -> str:
    """Any common spelling ('423-987-6543', '+1 (423) 987-6543') to 10 digits, else raise."""
    try:
        parsed = phonenumbers.parse(str(value), "US")
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneNumber(f"“{value}” is not a phone number.") from exc
    if parsed.country_code != 1 or not phonenumbers.is_valid_number(parsed):
        raise InvalidPhoneNumber(f"“{value}” is not a valid US phone number.")
    return str(parsed.national_number)


def format_phone(digits: str) -> str:
    if len(digits) == 10 and digits.isdigit():
        return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"
    return digits
