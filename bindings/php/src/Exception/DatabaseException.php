<?php

declare(strict_types=1);

namespace FortKnox\Exception;

/** FK_EDB: the server refused, or the connection failed (SQLSTATE in brackets in the message). */
class DatabaseException extends FortKnoxException
{
}
