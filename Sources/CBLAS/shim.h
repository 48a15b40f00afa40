#include <cblas.h>
/* Not declared in cblas.h on every OpenBLAS build. */
char *openblas_get_corename(void);
char *openblas_get_config(void);
