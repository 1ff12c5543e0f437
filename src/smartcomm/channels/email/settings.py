"""Settings of the SMTP provider, as the Settings → Channels form shows them."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from smartcomm.channels.checks import ProviderSettings, check_certificate, check_email
from smartcomm.channels.email.signing import DkimKeyError, load_private_key
from smartcomm.channels.fields import FormField
from smartcomm.kit.errors import InvalidInput
from smartcomm.kit.i18n import lazy

SECURITY_CHOICES = (
    ("starttls", lazy("STARTTLS (port 587)")),
    ("tls", lazy("TLS from the start (port 465)")),
    ("none", lazy("None (trusted local relay only)")),
)


class SmtpSettings(ProviderSettings):
    host: Annotated[
        str,
        Field(min_length=1, max_length=255),
        FormField(lazy("SMTP server"), placeholder="smtp.example.com", section=lazy("Server")),
    ]
    port: Annotated[int, Field(ge=1, le=65535), FormField(lazy("Port"), widget="number")] = 587
    security: Annotated[
        Literal["starttls", "tls", "none"],
        FormField(lazy("Encryption"), widget="select", choices=SECURITY_CHOICES),
    ] = "starttls"
    username: Annotated[str | None, Field(max_length=255), FormField(lazy("User name"))] = None
    password: Annotated[
        str | None, Field(max_length=1000), FormField(lazy("Password"), widget="password", secret=True)
    ] = None
    verify_certificate: Annotated[
        bool,
        FormField(
            lazy("Verify the server's certificate"),
            widget="checkbox",
            hint=lazy("Turn off only for a relay inside your own network."),
        ),
    ] = True
    ca_certificate: Annotated[
        str | None,
        Field(max_length=20000),
        FormField(
            lazy("Trusted certificate (PEM)"),
            widget="textarea",
            hint=lazy("For a relay whose certificate is issued by your own certificate authority."),
        ),
    ] = None
    timeout_seconds: Annotated[
        int, Field(ge=1, le=300), FormField(lazy("Timeout, seconds"), widget="number")
    ] = 30
    from_address: Annotated[
        str,
        Field(min_length=3, max_length=255),
        FormField(lazy("Sender address"), placeholder="news@shop.example", section=lazy("Sender")),
    ]
    from_name: Annotated[str | None, Field(max_length=200), FormField(lazy("Sender name"))] = None
    reply_to: Annotated[str | None, Field(max_length=255), FormField(lazy("Reply-To address"))] = None
    return_path: Annotated[
        str | None,
        Field(max_length=255),
        FormField(
            lazy("Bounce address"),
            hint=lazy("The envelope sender that receives bounces; the sender address when empty."),
        ),
    ] = None
    dkim_domain: Annotated[
        str | None,
        Field(max_length=255),
        FormField(lazy("DKIM domain"), placeholder="shop.example", section=lazy("DKIM signature")),
    ] = None
    dkim_selector: Annotated[
        str | None, Field(max_length=63), FormField(lazy("DKIM selector"), placeholder="mail")
    ] = None
    dkim_private_key: Annotated[
        str | None,
        Field(max_length=20000),
        FormField(
            lazy("DKIM private key (PEM)"),
            widget="textarea",
            secret=True,
            hint=lazy("An RSA key; messages are signed when the domain, selector and key are all set."),
        ),
    ] = None

    @property
    def signs(self) -> bool:
        return bool(self.dkim_domain and self.dkim_selector and self.dkim_private_key)

    def check(self) -> None:
        check_email("from_address", self.from_address)
        check_email("reply_to", self.reply_to)
        check_email("return_path", self.return_path)
        check_certificate("ca_certificate", self.ca_certificate)
        if self.password and not self.username:
            raise InvalidInput.for_field("username", "Enter the user name that goes with the password")
        self._check_dkim()

    def _check_dkim(self) -> None:
        given = {
            "dkim_domain": self.dkim_domain,
            "dkim_selector": self.dkim_selector,
            "dkim_private_key": self.dkim_private_key,
        }
        if any(given.values()) and not all(given.values()):
            missing = next(name for name, value in given.items() if not value)
            raise InvalidInput.for_field(missing, "DKIM needs the domain, the selector and the key together")
        if self.dkim_private_key:
            try:
                load_private_key(self.dkim_private_key)
            except DkimKeyError:
                raise InvalidInput.for_field(
                    "dkim_private_key", "Paste an unencrypted RSA private key in PEM format"
                ) from None
