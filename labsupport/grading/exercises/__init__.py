"""One module per lesson; each registers that lesson's exercises with :func:`labsupport.grading.exercise`."""
