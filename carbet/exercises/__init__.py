"""The exercises service: yearly cyber crisis exercises in every structure, and regional ones."""
