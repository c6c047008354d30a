"""The demo lab: the demo region's hosts on loopback (127.97.0.0/16), so that a scan of a demo
structure finds real, explained weaknesses, and an authoritative DNS server for the demo zones
so that nothing of the demo ever asks another resolver. See ``carbet.demo.lab.runner``."""
