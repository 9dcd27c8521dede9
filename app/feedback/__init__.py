"""好差评、投诉、办不成事: the applicant's voice, each answered by a BPMN process."""
