"""Supervision (电子监察): every case under the supervisor's region."""
