from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "carbet.accounts"
    label = "accounts"
    verbose_name = "Comptes"
