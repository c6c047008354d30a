"""Corrective action plans: action items, their evidence and verification, regional campaigns.

``services`` creates and changes action items (and builds them from selected findings),
``evidence`` records proofs and their approval, ``campaigns`` fans one regional weakness out
to every structure that has it, ``notify`` sends each structure its campaign notice once.
The findings these touch change status through ``finding_status``. Reads are in
``selectors``; pages in ``views``/``views_campaigns`` and ``urls`` (names ``findings:actions``…),
the JSON API in ``api``, forms in ``forms``.
"""
