"""The demo region: a fictional set of health structures, users and mandates to try Carbet."""
