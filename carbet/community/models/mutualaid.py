"""Mutual aid: requests and offers between structures, private threads, a skills directory."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from carbet.community.choices import Audience, PostKind, PostStatus, PostTopic
from carbet.core.tenancy import TenantQuerySet


class AidPost(models.Model):
    """A request or an offer posted by a structure. Its own structure reaches it through
    ``visible_to``; the others only through the audience rule (``selectors_aid``)."""

    structure = models.ForeignKey(
        "core.Structure", on_delete=models.CASCADE, related_name="aid_posts"
    )
    kind = models.CharField(_("demande ou offre"), max_length=8, choices=PostKind.choices)
    topic = models.CharField(_("sujet"), max_length=10, choices=PostTopic.choices)
    title = models.CharField(_("titre"), max_length=200)
    body = models.TextField(_("détails"), max_length=5000)
    audience = models.CharField(
        _("qui la voit"), max_length=12, choices=Audience.choices, default=Audience.COMMUNITY
    )
    status = models.CharField(max_length=10, choices=PostStatus.choices, default=PostStatus.OPEN)
    expires_on = models.DateField(_("jusqu'au"), null=True, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()
    tenant_path = "structure"

    class Meta:
        verbose_name = _("demande ou offre d'entraide")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title


class SkillProfile(models.Model):
    """A person's opt-in entry in the skills directory (shown only while ``visible``)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="skill_profile"
    )
    structure = models.ForeignKey(
        "core.Structure", on_delete=models.CASCADE, related_name="skill_profiles"
    )
    skills = models.JSONField(_("compétences"), default=list)
    software = models.JSONField(_("logiciels connus"), default=list, blank=True)
    description = models.TextField(_("présentation"), max_length=2000, blank=True)
    remote = models.BooleanField(_("peut aider à distance"), default=True)
    on_site = models.BooleanField(_("peut se déplacer"), default=False)
    visible = models.BooleanField(_("apparaître dans l'annuaire"), default=False)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()
    tenant_path = "structure"

    class Meta:
        verbose_name = _("fiche de compétences")

    def __str__(self) -> str:
        return f"compétences {self.user_id}"


class AidThread(models.Model):
    """A private conversation between a post's (or profile's) structure and one other structure.

    The e-mail addresses of either side are never shown: messages are read in Carbet, and the
    notification says only "you have a message"."""

    post = models.ForeignKey(
        AidPost, null=True, blank=True, on_delete=models.CASCADE, related_name="threads"
    )
    profile = models.ForeignKey(
        SkillProfile, null=True, blank=True, on_delete=models.CASCADE, related_name="threads"
    )
    # The structure that owns the post or profile, and the one that wrote first.
    owner = models.ForeignKey("core.Structure", on_delete=models.CASCADE, related_name="+")
    structure = models.ForeignKey(
        "core.Structure", on_delete=models.CASCADE, related_name="aid_threads"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()
    tenant_path = "structure"

    class Meta:
        verbose_name = _("conversation d'entraide")
        ordering = ["-updated_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["post", "structure"],
                condition=models.Q(post__isnull=False),
                name="community_thread_once_per_post",
            ),
            models.UniqueConstraint(
                fields=["profile", "structure"],
                condition=models.Q(profile__isnull=False),
                name="community_thread_once_per_profile",
            ),
        ]

    def __str__(self) -> str:
        return f"conversation {self.pk}"


class AidMessage(models.Model):
    thread = models.ForeignKey(AidThread, on_delete=models.CASCADE, related_name="messages")
    structure = models.ForeignKey("core.Structure", on_delete=models.CASCADE, related_name="+")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField(_("message"), max_length=5000)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"message {self.pk}"
