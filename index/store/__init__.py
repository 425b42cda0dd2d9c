"""What is stored and how it is read: the Chroma collections and their manifest (`chroma`), how
articles and chunks are recorded in them (`records`), the BM25 index kept in step (`keyword`),
the read side of `ArticleIndex` (`reads`), one writer at a time (`lock`), and the whole store
read back and checked (`check`).
"""
