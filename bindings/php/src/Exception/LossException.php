<?php

declare(strict_types=1);

namespace FortKnox\Exception;

/**
 * FK_ELOSS: entities disappeared from the database without a recorded
 * deletion. The export kept their fixture files and wrote everything else;
 * getReport() lists them (FK-LOSS items).
 */
class LossException extends FortKnoxException
{
}
