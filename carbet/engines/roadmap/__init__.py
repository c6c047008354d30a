"""Pure engines of the roadmap service: framework files, diagnostic scoring, roadmap proposal,
coverage rules and indicator arithmetic. No Django import here."""
