"""One submission, start to end: the rubric (`rubric`, `course`, `builtins`, `variants`), the
submission (`submission`), grading it (`grading`, `tolerance`, `references`, `refcache`) and its
report (`report`, `names`)."""
