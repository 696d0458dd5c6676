"""What a student meets: the answers template, neutral format hints, self-check feedback and the
offline self-check bundle."""
