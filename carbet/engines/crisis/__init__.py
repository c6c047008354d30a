"""The crisis engine: pure Python, no Django.

- ``phases``: the phases of a crisis, which changes are allowed, time spent in each;
- ``clock``: the regulatory clock (ARS / CERT Santé, CNIL, police complaint, insurer) and the
  reminder stages;
- ``chain``: the main courante's canonical form, keyed seals and the verification walk;
- ``sitrep``: a situation point drafted from what happened since the last one;
- ``templates``: crisis templates (JSON) read and checked with line-precise problems.
"""
