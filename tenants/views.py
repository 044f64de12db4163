"""Accounts: sign-up, log in and out, switching business, accepting an invitation."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tenants import ratelimit, selectors, services
from tenants.forms import AcceptInvitationForm, EmailAuthenticationForm, SignUpForm
from tenants.middleware import SESSION_TENANT_KEY
from tenants.models import Invitation, User
from tenants.scoping import tenant_scope

LOGIN_USER_LIMIT = ratelimit.Limit("login-user", *settings.LOGIN_RATE_LIMIT)
LOGIN_IP_LIMIT = ratelimit.Limit(
    "login-ip", settings.LOGIN_RATE_LIMIT[0] * 5, settings.LOGIN_RATE_LIMIT[1]
)


def add_validation_error(form: Any, error: ValidationError) -> None:
    """Shows a service's ValidationError on the form, by field where it names one."""
    if hasattr(error, "error_dict"):
        for field, field_messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, field_messages)
    else:
        form.add_error(None, error)


def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and getattr(request, "membership", None):
        return redirect(
            "dashboard:index" if request.membership.has_role("manager") else "staff:counter"
        )  # type: ignore[attr-defined]
    return render(request, "home.html")


def no_business(request: HttpRequest) -> HttpResponse:
    return render(request, "tenants/no_business.html", status=200)


def sign_up(request: HttpRequest) -> HttpResponse:
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            tenant, user = services.tenant_sign_up(
                business_name=data["business_name"],
                email=data["email"],
                password=data["password"],
                first_name=data["first_name"],
                timezone_name=data["timezone"],
                language=data["language"],
            )
        except ValidationError as error:
            add_validation_error(form, error)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            request.session[SESSION_TENANT_KEY] = tenant.pk
            messages.success(request, _("Welcome to Stampwise, %(name)s!") % {"name": tenant.name})
            return redirect("dashboard:index")
    return render(request, "tenants/sign_up.html", {"form": form})


class RateLimitedLoginView(auth_views.LoginView):
    """Django's login, with failed attempts counted per email and per IP in the shared cache."""

    form_class = EmailAuthenticationForm
    template_name = "tenants/login.html"
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        email = (request.POST.get("username") or "").strip().lower()
        ip = ratelimit.client_ip(request)
        wait = ratelimit.is_limited(LOGIN_USER_LIMIT, email) or ratelimit.is_limited(
            LOGIN_IP_LIMIT, ip
        )
        if wait:
            form = self.get_form()
            form.errors.clear()
            response = self.render_to_response(
                self.get_context_data(
                    form=self.form_class(request),
                    rate_limited=_("Too many failed attempts. Try again in %(minutes)s minutes.")
                    % {"minutes": max(1, wait // 60)},
                ),
                status=429,
            )
            response["Retry-After"] = str(wait)
            return response
        response = super().post(request, *args, **kwargs)
        if not isinstance(response, HttpResponseRedirect):
            ratelimit.hit(LOGIN_USER_LIMIT, email)
            ratelimit.hit(LOGIN_IP_LIMIT, ip)
        return response


@require_POST
def switch_tenant(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("login")
    wanted = request.POST.get("tenant_id", "")
    for membership in selectors.membership_list_for_user(user=request.user):  # type: ignore[arg-type]
        if str(membership.tenant_id) == wanted:
            request.session[SESSION_TENANT_KEY] = membership.tenant_id
            messages.info(request, _("Now working in %(name)s.") % {"name": membership.tenant.name})
            return redirect("home")
    messages.error(request, _("You are not a member of that business."))
    return redirect("home")


def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    invitation = selectors.invitation_resolve(token=token)
    if invitation is None:
        return render(request, "tenants/invitation_invalid.html", status=404)
    # A public token page: it runs in the token's tenant, whoever is logged in.
    with tenant_scope(invitation.tenant):
        return _invitation_accept(request, invitation)


def _invitation_accept(request: HttpRequest, invitation: Invitation) -> HttpResponse:
    existing = User.objects.filter(email=invitation.email).first()
    if existing is not None and (not request.user.is_authenticated or request.user != existing):
        messages.info(request, _("Log in as %(email)s to accept.") % {"email": invitation.email})
        return redirect(f"{reverse('login')}?next={request.path}")
    form = AcceptInvitationForm(request.POST or None) if existing is None else None
    if request.method == "POST" and (form is None or form.is_valid()):
        user = existing
        try:
            if user is None:
                if form is None:  # only when the account already exists
                    raise ValidationError(_("Log in to accept this invitation."))
                user = User.objects.create_user(
                    email=invitation.email,
                    password=form.cleaned_data["password"],
                    first_name=form.cleaned_data["first_name"],
                )
            membership = services.invitation_accept(invitation=invitation, user=user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return render(
                request,
                "tenants/invitation_accept.html",
                {"invitation": invitation, "form": form},
                status=400,
            )
        if not request.user.is_authenticated:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        request.session[SESSION_TENANT_KEY] = membership.tenant_id
        messages.success(request, _("You joined %(name)s.") % {"name": invitation.tenant.name})
        return redirect("home")
    return render(
        request, "tenants/invitation_accept.html", {"invitation": invitation, "form": form}
    )
