"""Password hashing with bcrypt and access tokens with python-jose (HS256 JWTs)."""
