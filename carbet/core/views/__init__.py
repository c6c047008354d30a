"""Pages of the registry, split by subject: region and structures, contacts and assets,
mandates, imports and exports. Every view is thin: parse, authorise, call a service, render."""
