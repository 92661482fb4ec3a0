"""Forms of the coordinator workspace: networks, members, invitations, rounds, catalogue."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.forms import UsernameField
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from .collation import latvian
from .models import Municipality, Network, Role
from .services import CODE_RE


class NetworkForm(forms.ModelForm):
    class Meta:
        model = Network
        fields = ["code", "name", "name_en", "theme", "theme_en", "description", "description_en", "policy"]

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].strip()
        if not CODE_RE.match(code):
            raise forms.ValidationError(_("Letters, digits, _ . - only; at most 32 characters."))
        return code


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class MembershipAddForm(forms.Form):
    municipality = forms.ModelChoiceField(
        label=_("Municipality"), queryset=Municipality.objects.none(), to_field_name="code"
    )
    joined = forms.DateField(label=_("Joined"), widget=DateInput(), initial=timezone.localdate)

    def __init__(self, *args, network: Network, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        current = network.memberships.filter(left__isnull=True).values("municipality_id")
        self.fields["municipality"].queryset = (
            Municipality.objects.current().exclude(pk__in=current).order_by(latvian("name"))
        )


class MembershipEndForm(forms.Form):
    left = forms.DateField(label=_("Last day of membership"), widget=DateInput(), initial=timezone.localdate)


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("E-mail"))
    kind = forms.ChoiceField(
        label=_("Role"),
        choices=[(Role.Kind.STAFF, Role.Kind.STAFF.label), (Role.Kind.VIEWER, Role.Kind.VIEWER.label)],
    )
    municipality = forms.ModelChoiceField(
        label=_("Municipality"), queryset=Municipality.objects.none(), to_field_name="code"
    )
    # The invited person has no account yet, so nothing says which language they read: the
    # coordinator who knows them chooses (the page's language unless changed).
    language = forms.ChoiceField(label=_("Language of the e-mail"), choices=settings.LANGUAGES, required=False)

    def __init__(self, *args, network: Network, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        members = network.memberships.active().values("municipality_id")
        self.fields["municipality"].queryset = Municipality.objects.filter(pk__in=members).order_by(latvian("name"))
        self.fields["language"].initial = _current_language()

    def clean_language(self) -> str:
        return self.cleaned_data.get("language") or _current_language()


def _current_language() -> str:
    active = (get_language() or settings.LANGUAGE_CODE).split("-")[0]
    return active if active in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


class RegisterForm(forms.Form):
    """A new account for someone accepting an invitation."""

    username = UsernameField(label=_("User name"), max_length=150)
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    password1 = forms.CharField(label=_("Password"), widget=forms.PasswordInput, strip=False)
    password2 = forms.CharField(label=_("Password again"), widget=forms.PasswordInput, strip=False)

    def clean(self) -> dict:
        data = super().clean()
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error("password2", _("The two passwords differ."))
        elif data.get("password1"):
            try:
                password_validation.validate_password(data["password1"])
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return data
