"""Running Carbet in production: serving, backups and restores, key rotation."""
