-- cinema_reservations (PostgreSQL): users, their reservations, the seats and payment of each.
-- reservations.schedule_id points to MySQL schedules; reservations.movie_id to a MongoDB movie.
CREATE TYPE reservation_status AS ENUM ('pending', 'confirmed', 'cancelled', 'refunded');
CREATE TYPE payment_method AS ENUM ('card', 'cash', 'paypal', 'gift_card');

CREATE TABLE users (
  id               BIGINT PRIMARY KEY,
  email            TEXT NOT NULL UNIQUE,
  full_name        TEXT NOT NULL,
  phone            TEXT,
  birth_date       DATE,
  preferences      JSONB NOT NULL,
  favorite_genres  TEXT[] NOT NULL,
  is_vip           BOOLEAN NOT NULL,
  loyalty_points   INTEGER NOT NULL,
  balance          NUMERIC(12,2) NOT NULL,
  engagement_score DOUBLE PRECISION,
  avatar           BYTEA,
  created_at       TIMESTAMPTZ NOT NULL,
  updated_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE reservations (
  id              BIGINT PRIMARY KEY,
  user_id         BIGINT NOT NULL,
  schedule_id     BIGINT NOT NULL,
  movie_id        CHAR(24) NOT NULL,
  status          reservation_status NOT NULL,
  total_amount    NUMERIC(10,2) NOT NULL,
  seat_count      SMALLINT NOT NULL,
  booking_channel TEXT NOT NULL,
  notes           TEXT,
  metadata        JSON,
  seat_numbers    INTEGER[] NOT NULL,
  show_time       TIMESTAMP NOT NULL,
  created_at      TIMESTAMPTZ NOT NULL,
  updated_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE reserved_seats (
  id             BIGINT PRIMARY KEY,
  reservation_id BIGINT NOT NULL,
  seat_id        BIGINT NOT NULL,
  seat_label     TEXT NOT NULL,
  price          NUMERIC(8,2) NOT NULL,
  updated_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE payments (
  id               BIGINT PRIMARY KEY,
  reservation_id   BIGINT NOT NULL UNIQUE,
  amount           NUMERIC(12,4) NOT NULL,
  currency         CHAR(3) NOT NULL,
  method           payment_method NOT NULL,
  paid_at          TIMESTAMPTZ,
  card_last4       CHAR(4),
  gateway_response JSONB,
  refunded         BOOLEAN NOT NULL,
  updated_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);
