"""Account pages, mounted at /compte/ (the MFA middleware leaves this prefix open)."""

from django.urls import path

from carbet.accounts import views_auth, views_profile, views_users

app_name = "accounts"
urlpatterns = [
    # Signing in and out
    path("connexion/", views_auth.login_view, name="login"),
    path("verification/", views_auth.verify_view, name="verify"),
    path("double-authentification/", views_auth.enrol_view, name="enrol"),
    path("deconnexion/", views_auth.logout_view, name="logout"),
    path("mot-de-passe/<uidb64>/<token>/", views_auth.set_password_view, name="set_password"),
    # My account
    path("profil/", views_profile.profile_view, name="profile"),
    path("profil/mot-de-passe/", views_profile.password_change_view, name="password_change"),
    path("profil/langue/", views_profile.language_view, name="language"),
    path(
        "profil/double-authentification/desactiver/",
        views_profile.mfa_remove_view,
        name="mfa_remove",
    ),
    path("profil/codes-de-secours/", views_profile.backup_codes_view, name="backup_codes"),
    path("profil/jetons/", views_profile.token_create_view, name="token_create"),
    path("profil/jetons/<int:pk>/revoquer/", views_profile.token_revoke_view, name="token_revoke"),
    path("droits/", views_profile.permissions_view, name="permissions"),
    # Managing accounts
    path("utilisateurs/", views_users.users_view, name="users"),
    path("utilisateurs/nouveau/", views_users.user_create_view, name="user_create"),
    path("utilisateurs/<int:pk>/", views_users.user_detail_view, name="user_detail"),
    path("utilisateurs/<int:pk>/modifier/", views_users.user_update_view, name="user_update"),
    path(
        "utilisateurs/<int:pk>/rattachements/",
        views_users.membership_add_view,
        name="membership_add",
    ),
    path(
        "rattachements/<int:pk>/retirer/",
        views_users.membership_remove_view,
        name="membership_remove",
    ),
    path(
        "utilisateurs/<int:pk>/double-authentification/",
        views_users.user_mfa_reset_view,
        name="user_mfa_reset",
    ),
    path("utilisateurs/<int:pk>/lien/", views_users.user_link_view, name="user_link"),
]
