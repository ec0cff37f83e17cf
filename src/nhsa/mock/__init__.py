"""The mock national platform (国家医疗保障信息平台) that HIS developers and CI test against.

It remembers what it issued (``mdtrt_id``, ``setl_id``, fee serials), settles the way the
insured place would, and misbehaves on purpose when asked. Its rooms:

- ``nhsa.mock.settlement`` — the policy calculator: prices fee lines against the treatment
  place's catalogue and settles a bill under the insured place's policy (plain Python, Decimal);
- ``nhsa.mock.fixtures`` — the test patients, institutions, catalogues, policies and province
  profiles, loaded from ``conformance/fixtures/`` (or any folder) into one immutable set.

The engine, store, server, faults and transcript build on these two.

Example:
    >>> from nhsa.mock.fixtures import bundled_fixtures
    >>> bundled_fixtures().institution("H53010100001").mdtrtarea_admvs
    '530100'
"""
