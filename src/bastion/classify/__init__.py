"""Classify: score content that no bank knows (language, designated entities, model heads)."""
