-- cinema_rooms (MySQL / MariaDB): rooms, their seats, and the schedules shown in them.
-- schedules.movie_id points to a MongoDB movie by ObjectId hex.
CREATE TABLE rooms (
  id            INT UNSIGNED NOT NULL,
  name          VARCHAR(120) NOT NULL,
  screen_type   ENUM('2D','3D','IMAX','4DX') NOT NULL,
  seat_rows     TINYINT UNSIGNED NOT NULL,
  capacity      SMALLINT UNSIGNED NOT NULL,
  hourly_rate   DECIMAL(10,2) NOT NULL,
  is_active     BOOLEAN NOT NULL,
  features      JSON NULL,
  opened_on     DATE NULL,
  floor_plan    BLOB NULL,
  notes         TEXT NULL,
  created_at    TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  updated_at    DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  KEY rooms_updated_at (updated_at, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE seats (
  id             INT UNSIGNED NOT NULL,
  room_id        INT UNSIGNED NOT NULL,
  seat_row       CHAR(2) NOT NULL,
  seat_number    TINYINT UNSIGNED NOT NULL,
  seat_type      ENUM('standard','premium','vip','accessible') NOT NULL,
  price_modifier DECIMAL(4,2) NOT NULL,
  is_accessible  BOOLEAN NOT NULL,
  updated_at     DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  UNIQUE KEY seats_room_position (room_id, seat_row, seat_number),
  KEY seats_updated_at (updated_at, id),
  CONSTRAINT seats_room_fk FOREIGN KEY (room_id) REFERENCES rooms (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE schedules (
  id            BIGINT UNSIGNED NOT NULL,
  room_id       INT UNSIGNED NOT NULL,
  movie_id      CHAR(24) NOT NULL,
  starts_at     DATETIME(6) NOT NULL,
  ends_at       DATETIME(6) NOT NULL,
  base_price    DECIMAL(8,2) NOT NULL,
  language      VARCHAR(40) NOT NULL,
  subtitles     BOOLEAN NOT NULL,
  format        ENUM('2D','3D','IMAX','4DX') NOT NULL,
  status        ENUM('scheduled','cancelled','completed') NOT NULL,
  created_at    TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  updated_at    DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  KEY schedules_movie (movie_id),
  KEY schedules_updated_at (updated_at, id),
  CONSTRAINT schedules_room_fk FOREIGN KEY (room_id) REFERENCES rooms (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
