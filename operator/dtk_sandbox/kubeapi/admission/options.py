"""
What one write request asks of admission, and what admission tells back besides the object.
"""
import dataclasses
import enum

from dtk_sandbox.kubeapi import errors


class FieldValidation(enum.Enum):
    """The ``fieldValidation`` query parameter (kubectl ``--validate=strict|warn|false``)."""
    IGNORE = 'Ignore'  # unknown fields are dropped silently
    WARN = 'Warn'  # dropped, with a ``Warning`` response header each; the server's default since 1.27
    STRICT = 'Strict'  # the request is refused (400) naming them

    @classmethod
    def parse(cls, raw: str) -> 'FieldValidation':
        if not raw:
            return cls.WARN
        for directive in cls:
            if directive.value == raw:
                return directive
        raise errors.bad_request(f'fieldValidation must be one of "Ignore", "Warn", or "Strict", got {raw!r}')


@dataclasses.dataclass
class WriteOptions:
    field_validation: FieldValidation = FieldValidation.WARN
    # Filled by admission: the texts of the ``Warning: 299 - "..."`` headers of the response.
    warnings: list[str] = dataclasses.field(default_factory=list)
