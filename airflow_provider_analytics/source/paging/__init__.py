"""Paging through listings without losing, repeating or leaking: guarded next links, seed templates,
keyset walks, and cap walks that go on where the API's offset cap stops the links."""
