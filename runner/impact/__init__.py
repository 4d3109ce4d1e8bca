"""What a change to the query repository does (issue 13): which queries it changes against a base (a git ref, or a
run directory's recorded bodies), the semantic difference of their rendered create bodies, and the text, JSON and
Markdown (pull-request comment) forms of an `ImpactReport`.

Reads compiles and run directories; never runs a query (`vqr diff --run` executes through `runner.app`).
"""
