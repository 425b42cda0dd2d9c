"""Text to vectors: the embedding model (`encoder`: the bundled all-MiniLM-L6-v2, torch or int8
ONNX), its int8 export and runtime (`onnx`), word pieces of whole articles (`tokens`), and
embedding on a Ray cluster (`cluster`, with its actor in `cluster_actor`).
"""
