"""Copies of one story: exact copies stored once (`exact`), and near-duplicates, such as
syndicated copies, grouped by MinHash LSH (`near_dup`) and kept in step with the store
(`folding`) so that retrieval returns one article per story.
"""
