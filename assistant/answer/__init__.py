"""From a question to a cited answer: retrieval (`retrieve`), the reader (`reader`), extractive
answers (`extractive`), multiple choice (`choices`), LLM answers (`llm`, `local_llm`,
`llm_child`, `prompts`) checked sentence by sentence (`citations`), follow-ups (`followup`), and
the passages they all pass along (`passage`).

`assistant.Assistant` puts these together; nothing here knows the page or the command line.
"""
